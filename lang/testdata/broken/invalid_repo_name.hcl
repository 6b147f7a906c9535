repo "core/testing" {
  target  = "https://arch.example.org/core/os/aarch64/core.db"
  publish = "-core"
}
