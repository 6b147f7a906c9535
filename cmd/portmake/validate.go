package main

import (
	"fmt"
)

// ValidateCmd checks a Portfile without touching the network: schema,
// names, references between blocks, and the local files it names.
type ValidateCmd struct{}

func (c *ValidateCmd) Run(env *Env, g *Globals) error {
	p, err := openPort(env, g)
	if err != nil {
		return err
	}
	defer p.Close()
	pf := p.Portfile()
	fmt.Fprintf(env.Stdout, "%s is valid: %s port, %d repositories, %d package overrides, %d blacklist entries.\n",
		g.File, pf.Arch(), len(pf.Repos), len(pf.Packages), len(pf.Blacklist.Entries))
	return nil
}
