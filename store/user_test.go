package store

import (
	"context"
	"testing"
	"time"
)

func TestBuildUsers(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if us, err := s.BuildUsers(ctx); err != nil || len(us) != 0 {
		t.Fatalf("new store: %v %v", us, err)
	}
	t1 := time.Unix(1700000000, 0)
	if err := s.RecordBuildUser(ctx, BuildUser{Name: "builder", UID: 998, Home: "/p/.portmake/home", CreatedAt: t1}); err != nil {
		t.Fatal(err)
	}
	// Created again after someone removed it: one record, the new one.
	if err := s.RecordBuildUser(ctx, BuildUser{Name: "builder", UID: 997, Home: "/q/.portmake/home", CreatedAt: t1.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	us, err := s.BuildUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(us) != 1 || us[0].UID != 997 || us[0].Home != "/q/.portmake/home" || !us[0].CreatedAt.Equal(t1.Add(time.Hour)) {
		t.Errorf("build users %+v", us)
	}
}
