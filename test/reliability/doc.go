// Package reliability holds the operator's reliability suite: envtest
// (kube-apiserver and etcd) with the manager running in-process, and one
// spec per property the operator promises under stress: deleted and
// edited children heal, a converged system makes no writes (across a
// manager restart), concurrent spec updates converge on the last one,
// random spec-transition sequences leave exactly the children the final
// spec asks for, stripped owner references are rebuilt (and foreign objects
// are not taken), Secret values never leak, and the optional ServiceMonitor
// CRD can arrive late. Each spec asserts a figure and prints it as a line
// starting with FIGURE, so that the numbers can be quoted.
//
// There is no kube-controller-manager in envtest: no garbage collector and
// no Deployment controller. The specs play the Deployment controller by
// writing Deployment status, and clean up children themselves.
package reliability
