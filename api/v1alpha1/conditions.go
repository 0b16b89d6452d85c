package v1alpha1

// Condition types. Ready, Reconciling and Stalled follow kstatus so that
// generic tools (kubectl wait, Flux, Argo CD) understand every Kalypso kind.
const (
	// ConditionReady is True when the object is reconciled and its workload serves.
	ConditionReady = "Ready"
	// ConditionReconciling is True while the operator works towards the spec.
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True when progress needs a change of the spec or of
	// something the spec references.
	ConditionStalled = "Stalled"
	// ConditionStorageReady reports whether the Application's storage secret
	// exists and holds the keys its storage type needs.
	ConditionStorageReady = "StorageReady"
	// ConditionServiceMonitorReady reports the optional ServiceMonitor child.
	ConditionServiceMonitorReady = "ServiceMonitorReady"
	// ConditionModelsReady reports whether every ready replica serves the
	// server's models, as Triton's repository index on each pod says.
	ConditionModelsReady = "ModelsReady"
)

// Condition reasons. Each is a CamelCase constant so tools can match on it.
const (
	// ReasonReconciled means every child matches the spec.
	ReasonReconciled = "Reconciled"
	// ReasonProgressing means children are being created or rolled out.
	ReasonProgressing = "Progressing"
	// ReasonInvalidSpec means the spec passed admission but cannot work.
	ReasonInvalidSpec = "InvalidSpec"
	// ReasonInvalidStorageURI means the model repository URI cannot work.
	ReasonInvalidStorageURI = "InvalidStorageURI"
	// ReasonApplicationNotFound means the referenced KalypsoApplication does not exist.
	ReasonApplicationNotFound = "ApplicationNotFound"
	// ReasonApplicationNotReady means the referenced KalypsoApplication is not Ready.
	ReasonApplicationNotReady = "ApplicationNotReady"
	// ReasonDeploymentUnavailable means the Deployment has fewer available pods than needed.
	ReasonDeploymentUnavailable = "DeploymentUnavailable"
	// ReasonPodsRefused means the API server refused the server's pods
	// (an exceeded ResourceQuota, an admission policy); the message says which.
	ReasonPodsRefused = "PodsRefused"
	// ReasonProgressDeadlineExceeded means the rollout is stuck.
	ReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"
	// ReasonCRDNotInstalled means an optional CRD (e.g. ServiceMonitor) is absent.
	ReasonCRDNotInstalled = "CRDNotInstalled"
	// ReasonSecretNotFound means the referenced Secret does not exist.
	ReasonSecretNotFound = "SecretNotFound"
	// ReasonSecretKeyMissing means the referenced Secret lacks a needed key.
	ReasonSecretKeyMissing = "SecretKeyMissing"
	// ReasonProjectMismatch means the Application's projectRef disagrees with its namespace.
	ReasonProjectMismatch = "ProjectMismatch"
	// ReasonNamespaceConflict means an environment namespace exists and is not the project's.
	ReasonNamespaceConflict = "NamespaceConflict"
	// ReasonApplyFailed means the API server refused a child object.
	ReasonApplyFailed = "ApplyFailed"
	// ReasonQuotaExceeded means a rollout does not fit the namespace's
	// ResourceQuota; the message has the numbers.
	ReasonQuotaExceeded = "QuotaExceeded"
	// ReasonChildRejected means the API server refused a child of the
	// current spec (422 Invalid); it is not applied again until the spec changes.
	ReasonChildRejected = "ChildRejected"
	// ReasonChildConflict means an object with a child's name exists and was
	// not created for this server; the operator leaves it untouched.
	ReasonChildConflict = "ChildConflict"
	// ReasonScaledToZero means the server runs no pods by request.
	ReasonScaledToZero = "ScaledToZero"
	// ReasonModelsReady means every ready replica serves the server's models.
	ReasonModelsReady = "ModelsReady"
	// ReasonModelsNotReady means a model is not READY on a ready replica;
	// status.models says which, where and Triton's reason.
	ReasonModelsNotReady = "ModelsNotReady"
	// ReasonModelsLoading means the operator is loading the declared models.
	ReasonModelsLoading = "ModelsLoading"
	// ReasonNoReadyReplicas means no replica's container is ready to be asked.
	ReasonNoReadyReplicas = "NoReadyReplicas"
	// ReasonTritonUnreachable means a pod's Triton could not be asked.
	ReasonTritonUnreachable = "TritonUnreachable"
	// ReasonTritonResponseRefused means a pod answered with something the
	// operator refuses (oversized, malformed, redirected, invalid names).
	ReasonTritonResponseRefused = "TritonResponseRefused"
	// ReasonDisabled means an optional feature is switched off.
	ReasonDisabled = "Disabled"
)
