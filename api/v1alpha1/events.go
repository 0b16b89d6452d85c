package v1alpha1

// Reasons of the Kubernetes Events the operator records (events.k8s.io).
// A Stalled transition is recorded as a Warning with the condition's reason;
// these name the notable actions.
const (
	// EventReasonReadopted: a child whose owner reference was removed was
	// proven to be the operator's own and its owner reference restored.
	EventReasonReadopted = "Readopted"
	// EventReasonPortsReclaimed: ports another manager set under the names
	// of the operator's ports were removed so the rendered ports apply.
	EventReasonPortsReclaimed = "PortsReclaimed"
	// EventReasonServiceMonitorCreated: the ServiceMonitor was created, for
	// example once its CRD was installed.
	EventReasonServiceMonitorCreated = "ServiceMonitorCreated"
	// EventReasonNamespaceDeleted: the namespace of an environment removed
	// from the project's spec was deleted (deletionPolicy Delete).
	EventReasonNamespaceDeleted = "NamespaceDeleted"
	// EventReasonChildDeleted: a child the spec no longer wants was deleted.
	EventReasonChildDeleted = "ChildDeleted"
	// EventReasonRecovered: an object that was Stalled is Ready again.
	EventReasonRecovered = "Recovered"
)
