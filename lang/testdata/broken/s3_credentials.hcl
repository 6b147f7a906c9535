publish "s3" {
  bucket     = "arch-aarch64"
  region     = "eu-central-1"
  access_key = "AKIAEXAMPLE"
  secret_key = "wJalrXUtnFEMI"
}
