// Command empty starts and exits: the Go runtime's own start-up.
package main

func main() {}
