publish "rsync" {
  path = "/srv/repo"
}
