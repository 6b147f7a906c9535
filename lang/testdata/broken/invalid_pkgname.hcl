package "-gcc" {
  nocheck = true
}

aur {
  packages = ["yay", "Paru!"]
  repo     = "forge"
}

repo "forge" {
  target = "https://arch.example.org/forge/os/aarch64/forge.db"
}
