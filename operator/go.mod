module kradius.dev/operator

go 1.26.8
