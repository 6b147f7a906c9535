// Package farm runs apply's builds as jobs of an existing cluster
// scheduler (Slurm) instead of on the host that runs portmake. It owns the
// Cluster interface that a scheduler backend implements (slurm.go; a
// Kubernetes backend would be one more file), the Builder that stages each
// attempt in the shared work directory and follows its job (an
// executor.Remote), and both ends of the worker protocol: the files in an
// attempt directory (protocol.go) and Work, which `portmake build-node`
// runs on the node with the same executor builders a local apply uses.
//
// It must not schedule (the executor decides what runs when, in
// dependency order), plan, or open the state store: placements go through
// the executor's Recorder. It runs the Slurm client commands through
// executor.RunCommand, as argv, never through a shell.
package farm
