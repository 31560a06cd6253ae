module kradius.dev/proto

go 1.26.8
