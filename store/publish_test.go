package store

import (
	"context"
	"slices"
	"testing"
)

func TestBuildOutputsAndUnpublished(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	apply, err := s.StartApply(ctx, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	build := func(hash string, status string, outs []Output) int64 {
		id, err := s.StartBuild(ctx, &Build{ApplyID: apply, Pkgbase: "foo", Version: "1-1", Hash: hash})
		if err != nil {
			t.Fatal(err)
		}
		var files []string
		for _, o := range outs {
			files = append(files, o.Path)
		}
		if err := s.FinishBuild(ctx, id, status, BuildResult{Files: files}); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordOutputs(ctx, id, outs); err != nil {
			t.Fatal(err)
		}
		return id
	}
	outs := []Output{{Path: "/pkg/foo-1-1-x86_64.pkg.tar.zst", SHA256: "aa", Size: 10}, {Path: "/pkg/foo-libs-1-1-x86_64.pkg.tar.zst", SHA256: "bb", Size: 20}}
	if b, _, err := s.Unpublished(ctx, "h1"); err != nil || b != nil {
		t.Fatalf("unpublished of an unknown hash: %v %v", b, err)
	}
	build("h1", StatusFailed, nil)
	id := build("h1", StatusSucceeded, outs)
	b, got, err := s.Unpublished(ctx, "h1")
	if err != nil || b == nil || b.ID != id || !slices.Equal(got, outs) {
		t.Fatalf("unpublished: %+v %v %v", b, got, err)
	}
	if err := s.RecordOutputs(ctx, id, []Output{{Path: "/x"}}); err == nil {
		t.Error("recorded an output without a sha256")
	}
	if o, err := s.OutputBySHA256(ctx, "bb"); err != nil || o == nil || o.Path != outs[1].Path {
		t.Errorf("output by sha256: %+v %v", o, err)
	}
	if err := s.MarkPublished(ctx, id); err != nil {
		t.Fatal(err)
	}
	if b, _, err := s.Unpublished(ctx, "h1"); err != nil || b != nil {
		t.Errorf("a published build is still unpublished: %+v %v", b, err)
	}

	// The repository's record, and forgetting it.
	if err := s.RecordPublished(ctx, []PublishedFile{
		{Repo: "core", Name: "foo-1-1-x86_64.pkg.tar.zst", SHA256: "aa", Size: 10, BuildID: id, Signed: true},
		{Repo: "core", Name: "bar-1-1-any.pkg.tar.zst", SHA256: "cc", Size: 5, Origin: OriginSynced, ETag: "e1"},
		{Repo: "core", Name: "foo-libs-1-1-x86_64.pkg.tar.zst", SHA256: "bb", Size: 20},
		{Repo: "extra", Name: "baz-1-1-any.pkg.tar.zst", SHA256: "dd", Size: 5, Origin: OriginSynced},
	}); err != nil {
		t.Fatal(err)
	}
	files, err := s.PublishedFiles(ctx, "core")
	if err != nil || len(files) != 3 || files[1].Name != "foo-1-1-x86_64.pkg.tar.zst" || files[1].BuildID != id || !files[1].Signed || files[1].Origin != OriginBuilt || files[0].Origin != OriginSynced || files[0].ETag != "e1" {
		t.Fatalf("published files: %+v %v", files, err)
	}
	if files[2].BuildID != id {
		t.Errorf("a published file was not tied to the build whose output it is: %+v", files[2])
	}
	if b, _ := s.LastSuccess(ctx, "h1"); b == nil {
		t.Fatal("no last success")
	}
	bases, err := s.Unpublish(ctx, "core", []string{"foo-1-1-x86_64.pkg.tar.zst", "bar-1-1-any.pkg.tar.zst", "foo-libs-1-1-x86_64.pkg.tar.zst"})
	if err != nil || !slices.Equal(bases, []string{"foo"}) {
		t.Errorf("unpublish: %v %v", bases, err)
	}
	if b, _ := s.LastSuccess(ctx, "h1"); b != nil {
		t.Error("a build whose file was taken out of the repository still counts as published")
	}
	if files, _ := s.PublishedFiles(ctx, "core"); len(files) != 0 {
		t.Errorf("left: %+v", files)
	}
	if err := s.RecordRemoved(ctx, "extra", []string{"baz-1-1-any.pkg.tar.zst"}); err != nil {
		t.Fatal(err)
	}
	if files, _ := s.PublishedFiles(ctx, "extra"); len(files) != 0 {
		t.Errorf("left: %+v", files)
	}
}
