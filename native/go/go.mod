module scjax_native

go 1.21
