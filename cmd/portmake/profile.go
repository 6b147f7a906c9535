package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// profiled runs f with a CPU profile written to the file PORTMAKE_CPUPROFILE
// names, when it is set: how the planner's and the store's hot paths were
// measured on real-size ports (go tool pprof portmake FILE).
func profiled(f func() int) int {
	path := os.Getenv("PORTMAKE_CPUPROFILE")
	if path == "" {
		return f()
	}
	out, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "portmake: PORTMAKE_CPUPROFILE: %v\n", err)
		return f()
	}
	defer out.Close()
	if err := pprof.StartCPUProfile(out); err != nil {
		fmt.Fprintf(os.Stderr, "portmake: PORTMAKE_CPUPROFILE: %v\n", err)
		return f()
	}
	defer pprof.StopCPUProfile()
	return f()
}
