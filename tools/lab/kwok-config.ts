import { join } from 'node:path';

/**
 * Returns kwok's configuration: stages that make managed nodes Ready and scheduled pods Running (and
 * finish deletions), and the logs and exec that kwok serves for every pod. kwok runs exec commands on
 * this host, inside `sandboxDir`, as the unprivileged user 65534.
 */
export function kwokConfig(sandboxDir: string): string {
  const logs = join(sandboxDir, 'logs');
  return `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: firebreak-node-ready
spec:
  resourceRef: { apiGroup: v1, kind: Node }
  selector:
    matchExpressions:
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: NotIn
      values: ['True']
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - { type: Ready, status: "True", reason: KubeletReady, message: "kwok node", lastHeartbeatTime: {{ $now | Quote }}, lastTransitionTime: {{ $now | Quote }} }
      addresses:
      - { type: InternalIP, address: {{ NodeIP | Quote }} }
      - { type: Hostname, address: {{ .metadata.name | Quote }} }
      daemonEndpoints:
        kubeletEndpoint:
          Port: {{ NodePort }}
      allocatable: { cpu: "32", memory: 64Gi, pods: "250" }
      capacity: { cpu: "32", memory: 64Gi, pods: "250" }
      nodeInfo:
        architecture: amd64
        operatingSystem: linux
        kubeletVersion: {{ printf "kwok-%s" Version | Quote }}
        containerRuntimeVersion: kwok
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: firebreak-pod-running
spec:
  resourceRef: { apiGroup: v1, kind: Pod }
  selector:
    matchExpressions:
    - { key: '.metadata.deletionTimestamp', operator: DoesNotExist }
    - { key: '.status.phase', operator: In, values: ['Pending'] }
  next:
    statusTemplate: |
      {{ $now := Now }}
      phase: Running
      startTime: {{ $now | Quote }}
      hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
      podIP: {{ PodIPWith .spec.nodeName false .metadata.uid .metadata.name .metadata.namespace | Quote }}
      conditions:
      - { type: Initialized, status: "True", lastTransitionTime: {{ $now | Quote }} }
      - { type: Ready, status: "True", lastTransitionTime: {{ $now | Quote }} }
      - { type: ContainersReady, status: "True", lastTransitionTime: {{ $now | Quote }} }
      - { type: PodScheduled, status: "True", lastTransitionTime: {{ $now | Quote }} }
      containerStatuses:
      {{ range .spec.containers }}
      - name: {{ .name | Quote }}
        image: {{ .image | Quote }}
        imageID: {{ printf "docker-pullable://%s@sha256:0000000000000000000000000000000000000000000000000000000000000000" .image | Quote }}
        containerID: {{ printf "containerd://%s" $.metadata.uid | Quote }}
        ready: true
        started: true
        restartCount: 0
        state: { running: { startedAt: {{ $now | Quote }} } }
      {{ end }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: firebreak-pod-delete
spec:
  resourceRef: { apiGroup: v1, kind: Pod }
  selector:
    matchExpressions:
    - { key: '.metadata.deletionTimestamp', operator: Exists }
  next:
    delete: true
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: firebreak-logs
spec:
  logs:
  - logsFile: ${join(logs, 'current.log')}
    previousLogsFile: ${join(logs, 'previous.log')}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterExec
metadata:
  name: firebreak-exec
spec:
  execs:
  - local:
      workDir: ${join(sandboxDir, 'exec')}
      securityContext: { runAsUser: 65534, runAsGroup: 65534 }
`;
}
