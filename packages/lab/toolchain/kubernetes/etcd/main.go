// Test tool only: the etcd server that Kubernetes v1.37.2 requires, for packages/lab.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
