// Package spec owns the OCI runtime configuration (config.json) as
// tincan-oci sees it before anything is created: it writes the default
// configuration of `tincan-oci spec` (Default, Rootless), reads a bundle's
// config.json with errors that point at a line and column (Load), resolves the
// root filesystem (RootfsPath) and checks the configuration as a whole
// (Validate, ValidateProcess) so that create fails with one line naming the
// offending field before a state directory, cgroup or process exists.
//
// The checks here are the ones that need no kernel knowledge and no policy
// from another package. spec does not check capability names (linux/caps),
// rlimit names (linux/rlimit), mount options (linux/mount), seccomp filters
// (linux/seccomp) or cgroup resources (linux/cgroups), and it does not ask the
// kernel whether a namespace path is of the right type or whether a feature
// is available; those packages report their own errors when they apply the
// configuration. spec never modifies a configuration it validates.
package spec
