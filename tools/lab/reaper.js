'use strict';
// Stops server process groups once their owner process is gone, so that an interrupted or crashed run
// leaves no server behind. Usage: node reaper.js OWNER_PID PGID [PGID...]
const [ownerPid, ...groups] = process.argv.slice(2).map(Number);

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

function killGroups(signal) {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, signal);
    } catch {
      // The group is already gone.
    }
  }
}

const timer = setInterval(() => {
  if (groups.every((pgid) => !alive(pgid))) {
    process.exit(0);
  }
  if (!alive(ownerPid)) {
    killGroups('SIGTERM');
    setTimeout(() => {
      killGroups('SIGKILL');
      process.exit(0);
    }, 3000);
    clearInterval(timer);
  }
}, 500);
