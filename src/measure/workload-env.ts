// The environment a workload starts from: the runner's, without the credentials a CI step holds for
// membudget's own use, plus the scenario's `env`.

/**
 * Variables that give access to the repository or the runner's services: a pull request's code must
 * not read them. A scenario keeps one by asking for it by name in its `env`: `"GH_TOKEN": "${GH_TOKEN}"`.
 */
export const CREDENTIALS = [
  "GITHUB_TOKEN",
  "GH_TOKEN",
  "GH_ENTERPRISE_TOKEN",
  "GITHUB_ENTERPRISE_TOKEN",
  "ACTIONS_RUNTIME_TOKEN",
  "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
  "ACTIONS_ID_TOKEN_REQUEST_URL",
] as const;

export function workloadEnv(
  scenarioEnv: Readonly<Record<string, string>>,
  env: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const name of CREDENTIALS) delete out[name];
  for (const [name, value] of Object.entries(scenarioEnv)) {
    // "${NAME}" for a credential passes the runner's value on; anything else is taken as written.
    if ((CREDENTIALS as readonly string[]).includes(name) && value === `\${${name}}`) {
      if (env[name] !== undefined) out[name] = env[name];
    } else {
      out[name] = value;
    }
  }
  return out;
}
