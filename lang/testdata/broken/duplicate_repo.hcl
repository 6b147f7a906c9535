repo "core" {
  target = "https://arch.example.org/core/os/aarch64/core.db"
}

repo "core" {
  target = "https://arch.example.org/core2/os/aarch64/core2.db"
}
