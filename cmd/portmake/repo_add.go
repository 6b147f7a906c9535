package main

import "errors"

// RepoAddCmd and RepoRemoveCmd are being written; placeholders keep the CLI compiling.
type RepoAddCmd struct{}

func (c *RepoAddCmd) Run(env *Env) error { return errors.New("repo add: not implemented yet") }

type RepoRemoveCmd struct{}

func (c *RepoRemoveCmd) Run(env *Env) error { return errors.New("repo remove: not implemented yet") }
