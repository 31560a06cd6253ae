module kradius.dev/test

go 1.26.8

// The workspace (go.work) builds against the modules in this repository.
replace (
	kradius.dev/proto => ../proto
	kradius.dev/services => ../services
)
