repo "core/testing" {
  target  = "https://arch.example.org/core/os/aarch64/core.db"
  publish = "-core"
}

# Allowed by alpm-repo-name(7), refused by the publisher after the build.
repo "de$mo" {
  target = "https://arch.example.org/demo/os/aarch64/demo.db"
}

repo "extra" {
  target         = "https://arch.example.org/extra/os/aarch64/extra.db"
  target_testing = "https://arch.example.org/extra/os/aarch64/extra$testing.db"
  publish        = "extra testing"
}
