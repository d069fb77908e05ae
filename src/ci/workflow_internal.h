/* Private to src/ci: the workflow templates. */
#ifndef AFTERSHOCK_CI_WORKFLOW_INTERNAL_H
#define AFTERSHOCK_CI_WORKFLOW_INTERNAL_H

/* Templates with "@EXPERIMENTS@" (shell words) and "@EXPERIMENTS_TEXT@"
 * (the same for a message); the GitHub one also has "@INSTALL@" and
 * "@DOWNLOAD@" where the shared steps go. */
extern const char ci_github_template[];
extern const char ci_github_install_step[];
extern const char ci_github_download_steps[];
extern const char ci_gitlab_template[];

#endif
