// Command etcd is the sandbox's etcd: upstream's etcdmain, built from the Go module proxy
// so that the sandbox never downloads a release binary at run time.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
