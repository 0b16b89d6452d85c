// Package ociimage builds the manager's container image without a container
// engine and without pulling a base image: one layer holding the static
// manager binary, the CA roots, and passwd/group entries for the non-root
// user, packed per platform into a multi-architecture OCI image layout.
// Inspect and Verify read a layout back with the standard library alone, so
// the checks do not trust the code that wrote it.
//
// Every byte is a function of the inputs: tar entries are sorted and carry
// one fixed timestamp, so two builds of the same binaries give the same
// digests.
package ociimage
