// Command storeonly uses the store module alone, the way a service that only
// needs a cache would.
package main

func main() {}
