repo "forge" {
  target = "https://arch.example.org/forge/os/aarch64/forge.db"
}

aur {
  packages = ["yay"]
  repo     = "forge"
}

package "yay" {
  git = "https://github.com/someone/yay.git"
}
