// The etcd member behind one local API server: a single node on loopback ports, its data in
// the run directory. Test data is worth nothing after the run, so fsync is off (etcd's
// --unsafe-no-fsync): on a CI disk it is the difference between seconds and minutes of writes.
import { join } from 'node:path';
import { spawnProcessGroup, type ManagedProcess } from '../process-group.js';

export interface EtcdConfig {
  binary: string;
  dir: string;
  clientPort: number;
  peerPort: number;
}

export function etcdArgs(cfg: EtcdConfig): string[] {
  const client = `http://127.0.0.1:${cfg.clientPort}`;
  const peer = `http://127.0.0.1:${cfg.peerPort}`;
  return [
    '--name=herdless-lab',
    `--data-dir=${join(cfg.dir, 'etcd-data')}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=herdless-lab=${peer}`,
    '--initial-cluster-state=new',
    '--unsafe-no-fsync',
    '--log-level=warn',
  ];
}

export function startEtcd(cfg: EtcdConfig): ManagedProcess {
  return spawnProcessGroup({
    name: 'etcd',
    command: cfg.binary,
    args: etcdArgs(cfg),
    logPath: join(cfg.dir, 'etcd.log'),
  });
}
