build {
  jobs = 2
}

build {
  jobs = 4
}
