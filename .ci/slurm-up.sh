#!/usr/bin/env bash
# Single-node SLURM (munge + slurmctld + slurmd [+ MariaDB + slurmdbd]) on localhost.
# Debian 12 (bookworm, slurm 22.05.8), run as root.  SLURM_CI_DBD=1 adds accounting (sacct).
set -euo pipefail
if command -v sinfo >/dev/null && [ "$(sinfo -h -N -o %T 2>/dev/null | head -n 1)" = idle ]; then
  echo "slurm already up"; exit 0
fi
BASE=${SLURM_CI_BASE:-/tmp/slurm-ci}     # state, spool, logs, pid files
DBD=${SLURM_CI_DBD:-0}
t0=$(date +%s)
pkgs="slurmctld slurmd slurm-client munge"
[ "$DBD" = 1 ] && pkgs="$pkgs slurmdbd mariadb-server"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
echo "install done after $(( $(date +%s) - t0 ))s"

H=$(hostname -s); CPUS=$(nproc)
MEM=$(( $(awk '/MemTotal/{print int($2/1024)}' /proc/meminfo) * 9 / 10 ))
mkdir -p "$BASE"/{state,spool,log,run}
if [ "$DBD" = 1 ]; then
  ACCT="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1"
else
  ACCT="AccountingStorageType=accounting_storage/none"
fi
# Must be the default path: the jobstep plugin strips SLURM_CONF before its nested srun.
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=ci
SlurmctldHost=${H}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$BASE/state
SlurmdSpoolDir=$BASE/spool
SlurmctldPidFile=$BASE/run/slurmctld.pid
SlurmdPidFile=$BASE/run/slurmd.pid
SlurmctldLogFile=$BASE/log/slurmctld.log
SlurmdLogFile=$BASE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
$ACCT
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=300
KillWait=5
NodeName=${H} NodeAddr=127.0.0.1 CPUs=${CPUS} RealMemory=${MEM} State=UNKNOWN
PartitionName=debug Nodes=${H} Default=YES MaxTime=INFINITE State=UP
CONF

# munge: key /etc/munge/munge.key was created by the package postinst
mkdir -p /run/munge && chown munge:munge /run/munge
runuser -u munge -- /usr/sbin/munged          # pid: /run/munge/munged.pid
munge -n | unmunge >/dev/null

if [ "$DBD" = 1 ]; then
  mkdir -p "$BASE/mysql"
  mariadb-install-db --user=root --datadir="$BASE/mysql" --skip-test-db >"$BASE/log/mariadb-install.log" 2>&1
  mariadbd --user=root --datadir="$BASE/mysql" --socket="$BASE/run/mysqld.sock" \
    --pid-file="$BASE/run/mysqld.pid" --bind-address=127.0.0.1 --port=3306 \
    --log-error="$BASE/log/mariadb.err" >/dev/null 2>&1 &
  for i in $(seq 60); do mariadb -S "$BASE/run/mysqld.sock" -e 'select 1' >/dev/null 2>&1 && break; sleep 0.5; done
  mariadb -S "$BASE/run/mysqld.sock" -e "CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurmpw';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';"
  cat > /etc/slurm/slurmdbd.conf <<CONF
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=3306
StorageUser=slurm
StoragePass=slurmpw
StorageLoc=slurm_acct_db
PidFile=$BASE/run/slurmdbd.pid
LogFile=$BASE/log/slurmdbd.log
CONF
  chmod 600 /etc/slurm/slurmdbd.conf
  slurmdbd
  for i in $(seq 60); do sacctmgr -n list cluster >/dev/null 2>&1 && break; sleep 0.5; done
fi

slurmctld            # daemonizes; slurmctld registers cluster "ci" in slurmdbd itself
slurmd
for i in $(seq 60); do
  st=$(sinfo -h -N -o %T 2>/dev/null || true); [ "$st" = idle ] && break; sleep 0.5
done
sinfo
[ "$st" = idle ] || { tail -n 30 "$BASE"/log/*.log; exit 1; }
echo "slurm up after $(( $(date +%s) - t0 ))s"
