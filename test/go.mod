module kradius.dev/test

go 1.26.8
