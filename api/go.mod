module kradius.dev/api

go 1.26.8
