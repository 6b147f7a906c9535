repo "core" {
  upstream = "ftp://ftp.example.org/core/os/x86_64/core.db"
  target   = "https://arch.example.org/core/os/aarch64/core.db"
}
