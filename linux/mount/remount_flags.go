package mount

import "golang.org/x/sys/unix"

// Flag groups of a bind remount. MS_REMOUNT|MS_BIND changes only the
// per-mount flags and sets them to exactly what is passed, so every one the
// caller did not mention has to be passed as it is now.
const (
	perMountFlags = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOSYMFOLLOW
	atimeModes    = unix.MS_NOATIME | unix.MS_RELATIME | unix.MS_STRICTATIME
	atimeFlags    = atimeModes | unix.MS_NODIRATIME
	// lockableFlags are those a mount inherited from a more privileged mount
	// namespace keeps locked in a user namespace: changing one fails with
	// EPERM.
	lockableFlags = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | atimeFlags
)

// stNoSymFollow is ST_NOSYMFOLLOW from <linux/statfs.h>, which
// golang.org/x/sys/unix does not define.
const stNoSymFollow = 0x2000

// mountFlagsFromStatfs converts statfs(2) f_flags (ST_*) to the MS_* flags
// that express them; the two share values except for relatime and
// nosymfollow.
func mountFlagsFromStatfs(stFlags int64) uintptr {
	pairs := [...]struct {
		st int64
		ms uintptr
	}{
		{unix.ST_RDONLY, unix.MS_RDONLY},
		{unix.ST_NOSUID, unix.MS_NOSUID},
		{unix.ST_NODEV, unix.MS_NODEV},
		{unix.ST_NOEXEC, unix.MS_NOEXEC},
		{unix.ST_SYNCHRONOUS, unix.MS_SYNCHRONOUS},
		{unix.ST_MANDLOCK, unix.MS_MANDLOCK},
		{unix.ST_NOATIME, unix.MS_NOATIME},
		{unix.ST_NODIRATIME, unix.MS_NODIRATIME},
		{unix.ST_RELATIME, unix.MS_RELATIME},
		{stNoSymFollow, unix.MS_NOSYMFOLLOW},
	}
	var flags uintptr
	for _, p := range pairs {
		if stFlags&p.st != 0 {
			flags |= p.ms
		}
	}
	return flags
}

// bindRemountFlags returns the mount(2) flags that give a bind mount whose
// current flags are current the per-mount flags o asks for, keeping every
// flag o does not mention as it is.
func bindRemountFlags(o Options, current uintptr) uintptr {
	flags := unix.MS_REMOUNT | unix.MS_BIND | o.Flags&(perMountFlags|atimeFlags)
	flags |= current & perMountFlags &^ o.ClearFlags
	return flags&^atimeFlags | remountAtime(o, current)
}

// remountAtime works out the atime flags of a bind remount. Without any, the
// kernel falls back to relatime, which would both change a noatime or
// strictatime mount the user said nothing about and fail with EPERM where
// the atime setting is locked; so the current setting is always passed on
// unless the options replace it.
func remountAtime(o Options, current uintptr) uintptr {
	var mode uintptr
	if requested := o.Flags & atimeModes; requested != 0 {
		mode = requested
	} else {
		mode = current & atimeModes &^ o.ClearFlags
		if mode == 0 {
			mode = unix.MS_STRICTATIME
			if o.ClearFlags&unix.MS_STRICTATIME != 0 {
				mode = unix.MS_RELATIME // "nostrictatime": the kernel default
			}
		}
	}
	switch {
	case o.Flags&unix.MS_NODIRATIME != 0:
		mode |= unix.MS_NODIRATIME
	case o.ClearFlags&unix.MS_NODIRATIME == 0:
		mode |= current & unix.MS_NODIRATIME
	}
	return mode
}

// withLockedFlags returns flags changed to keep current's lockable flags:
// the second attempt of a remount that failed with EPERM. Read-only is left
// alone: a mount that is asked to be writable and cannot be must fail.
func withLockedFlags(flags, current uintptr) uintptr {
	return flags&^atimeFlags | current&lockableFlags | remountAtime(Options{}, current)
}
