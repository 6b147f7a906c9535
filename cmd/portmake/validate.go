package main

import "errors"

// ValidateCmd is being written; this placeholder keeps the CLI compiling.
type ValidateCmd struct{}

func (c *ValidateCmd) Run(env *Env) error { return errors.New("validate: not implemented yet") }
