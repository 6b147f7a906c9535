package "gcc" {
  nocheck = true
}

package "gcc" {
  group = "heavy"
}
