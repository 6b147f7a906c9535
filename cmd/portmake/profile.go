package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// profiled runs f with a CPU profile written to the file PORTMAKE_CPUPROFILE
// names, and a heap profile (every allocation) to PORTMAKE_MEMPROFILE, when
// they are set: how the planner's and the store's hot paths were measured
// on real-size ports (go tool pprof portmake FILE).
func profiled(f func() int) int {
	if path := os.Getenv("PORTMAKE_MEMPROFILE"); path != "" {
		runtime.MemProfileRate = 1
		defer func() {
			if err := writeHeapProfile(path); err != nil {
				fmt.Fprintf(os.Stderr, "portmake: PORTMAKE_MEMPROFILE: %v\n", err)
			}
		}()
	}
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

func writeHeapProfile(path string) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(out, 0); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
