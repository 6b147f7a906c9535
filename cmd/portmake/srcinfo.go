package main

import "errors"

// SrcinfoCmd is being written; this placeholder keeps the CLI compiling.
type SrcinfoCmd struct{}

func (c *SrcinfoCmd) Run(env *Env) error { return errors.New("srcinfo: not implemented yet") }
