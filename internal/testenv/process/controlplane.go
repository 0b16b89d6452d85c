// Package process runs the operator the way it runs in a cluster, for
// benchmarks and fault-injection tests: a kube-apiserver and etcd (envtest)
// that authorize with RBAC, config/local applied (namespace, CRDs and the
// manager's real RBAC), a kubeconfig holding a token of the manager's
// ServiceAccount, and the manager binary as a child process that can be
// started, paused, signalled and killed, and whose metrics and memory can be
// read.
package process

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/kalypsoserving/kalypso-serving/internal/testenv"
)

// The manager's identity, as config/local installs it.
const (
	// ManagerNamespace is the manager's namespace (and that of its Lease).
	ManagerNamespace = "kalypso-serving-system"
	// ManagerServiceAccount is the ServiceAccount the manager runs as.
	ManagerServiceAccount = "kalypso-serving-controller-manager"
	// ManagerUser is the user name the API server sees for the manager.
	ManagerUser = "system:serviceaccount:" + ManagerNamespace + ":" + ManagerServiceAccount
)

// ControlPlaneOptions configure StartControlPlane.
type ControlPlaneOptions struct {
	// Scheme of the admin client (required).
	Scheme *runtime.Scheme
	// Kustomize is the kustomize binary that builds config/local (required).
	Kustomize string
	// FieldOwner of the server-side apply of config/local; "testenv" if empty.
	FieldOwner string
	// APIServerFlags are extra kube-apiserver flags (e.g. audit-policy-file),
	// set after the defaults so they can override them.
	APIServerFlags map[string]string
}

// ControlPlane is kube-apiserver + etcd with RBAC, the CRDs and the
// manager's RBAC installed.
type ControlPlane struct {
	// Env is the running envtest environment.
	Env *envtest.Environment
	// Admin is a cluster-admin configuration (QPS 1000, burst 2000).
	Admin *rest.Config
	// Client is a cluster-admin client built from Admin.
	Client client.Client
}

// StartControlPlane starts kube-apiserver and etcd with RBAC authorization
// and a Service range with room for 10,000 Services, and applies
// config/local. Stop it with Stop.
func StartControlPlane(ctx context.Context, opts ControlPlaneOptions) (*ControlPlane, error) {
	if opts.Kustomize == "" {
		return nil, errors.New("no kustomize binary: set KUSTOMIZE (the Makefile does)")
	}
	env, err := testenv.New()
	if err != nil {
		return nil, err
	}
	api := env.ControlPlane.GetAPIServer().Configure()
	// Authorize with RBAC, as a real cluster does, so the manager's
	// ServiceAccount has only the permissions of config/rbac.
	api.Set("authorization-mode", "RBAC")
	// Room for 10,000 Services (envtest's default range holds 256).
	api.Set("service-cluster-ip-range", "10.96.0.0/12")
	for k, v := range opts.APIServerFlags {
		api.Set(k, v)
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting kube-apiserver and etcd: %w", err)
	}
	cfg.QPS, cfg.Burst = 1000, 2000
	c, err := client.New(cfg, client.Options{Scheme: opts.Scheme})
	if err != nil {
		_ = env.Stop()
		return nil, err
	}
	cp := &ControlPlane{Env: env, Admin: cfg, Client: c}
	owner := opts.FieldOwner
	if owner == "" {
		owner = "testenv"
	}
	if err := cp.installLocal(ctx, opts.Kustomize, owner); err != nil {
		_ = env.Stop()
		return nil, err
	}
	return cp, nil
}

// Stop stops kube-apiserver and etcd.
func (cp *ControlPlane) Stop() { _ = cp.Env.Stop() }

// installLocal applies config/local (namespace, CRDs, the manager's RBAC).
func (cp *ControlPlane) installLocal(ctx context.Context, kustomize, owner string) error {
	out, err := exec.CommandContext(ctx, kustomize, "build", testenv.Path("config", "local")).Output()
	if err != nil {
		return fmt.Errorf("kustomize build config/local: %w", err)
	}
	objs, err := testenv.DecodeObjects(out)
	if err != nil {
		return fmt.Errorf("decoding config/local: %w", err)
	}
	for _, u := range objs {
		if err := cp.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(owner), client.ForceOwnership); err != nil {
			return fmt.Errorf("applying %s %s: %w", u.GetKind(), u.GetName(), err)
		}
	}
	return nil
}

// ManagerToken requests a token (valid 24 hours) for the manager's
// ServiceAccount.
func (cp *ControlPlane) ManagerToken(ctx context.Context) (string, error) {
	cs, err := kubernetes.NewForConfig(cp.Admin)
	if err != nil {
		return "", err
	}
	tr, err := cs.CoreV1().ServiceAccounts(ManagerNamespace).CreateToken(ctx, ManagerServiceAccount, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](24 * 3600)},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("requesting a token for %s/%s: %w", ManagerNamespace, ManagerServiceAccount, err)
	}
	return tr.Status.Token, nil
}

// ManagerKubeconfig writes dir/manager.kubeconfig, which reaches the API
// server directly as the manager's ServiceAccount, and returns its path.
func (cp *ControlPlane) ManagerKubeconfig(ctx context.Context, dir string) (string, error) {
	token, err := cp.ManagerToken(ctx)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "manager.kubeconfig")
	return path, WriteKubeconfig(path, cp.Admin.Host, cp.Admin.CAData, token)
}

// WriteKubeconfig writes a kubeconfig for server (an https URL verified
// with caData, or a plain http URL with caData nil) that authenticates with
// a bearer token.
func WriteKubeconfig(path, server string, caData []byte, token string) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["local"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caData}
	kc.AuthInfos["manager"] = &clientcmdapi.AuthInfo{Token: token}
	kc.Contexts["manager"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "manager"}
	kc.CurrentContext = "manager"
	return clientcmd.WriteToFile(*kc, path)
}
