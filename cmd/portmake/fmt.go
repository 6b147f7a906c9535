package main

import "errors"

// FmtCmd is being written; this placeholder keeps the CLI compiling.
type FmtCmd struct{}

func (c *FmtCmd) Run(env *Env) error { return errors.New("fmt: not implemented yet") }
