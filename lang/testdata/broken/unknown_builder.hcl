build {
  builder = "makepgk"
  backend = "slurn"
}
