package main

import "fmt"

// RetryCmd clears the failure memory of pkgbases.
type RetryCmd struct {
	Packages []string `arg:"" help:"pkgbases to try again." name:"pkgbase"`
}

func (c *RetryCmd) Run(env *Env, g *Globals) error {
	p, err := openPort(env, g)
	if err != nil {
		return err
	}
	defer p.Close()
	for _, pkg := range c.Packages {
		n, err := p.Retry(env.Ctx, pkg)
		if err != nil {
			return err
		}
		if n == 0 {
			fmt.Fprintf(env.Stdout, "%s: no failure to forget; it is not held back.\n", pkg)
			continue
		}
		fmt.Fprintf(env.Stdout, "%s: forgot %d failed build%s; the next apply or watch round builds it again.\n", pkg, n, plural(n))
	}
	return nil
}
