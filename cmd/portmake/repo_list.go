package main

import "errors"

// RepoListCmd and RepoShowCmd are being written; placeholders keep the CLI compiling.
type RepoListCmd struct{}

func (c *RepoListCmd) Run(env *Env) error { return errors.New("repo list: not implemented yet") }

type RepoShowCmd struct{}

func (c *RepoShowCmd) Run(env *Env) error { return errors.New("repo show: not implemented yet") }
