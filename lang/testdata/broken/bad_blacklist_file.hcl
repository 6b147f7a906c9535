blacklist {
  file     = "bad-blacklist.txt"
  patterns = ["ok-*", "not ok"]
}
