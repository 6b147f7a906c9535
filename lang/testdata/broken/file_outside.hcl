variable "token" {
  default = file("../../../go.mod")
}
