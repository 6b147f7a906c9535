build {
  builder = "docker"
  jobs    = 0
}
