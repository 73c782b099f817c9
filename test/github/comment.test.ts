// The sticky pull request comment, driven through the real Octokit client against a loopback GitHub API.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  findStickyComment,
  stickyMarker,
  type UpsertOptions,
  upsertStickyComment,
} from "../../src/github/comment.js";
import { COMMENT_LIMIT } from "../../src/model/limits.js";
import { type FakeGitHub, startFakeGitHub } from "../helpers/fake-github.js";

const owner = "Codertocat";
const repo = "Hello-World";
const issueNumber = 2;

let github: FakeGitHub;
let target: Omit<UpsertOptions, "body" | "mode">;

beforeEach(async () => {
  github = await startFakeGitHub();
  target = { token: "ghs_test_token", apiUrl: github.url, owner, repo, issueNumber, key: "bench" };
});
afterEach(async () => {
  await github.close();
});

const comments = () => github.comments(owner, repo, issueNumber);
const writes = () => github.requests.filter((r) => r.method !== "GET");

describe("upsertStickyComment", () => {
  it("creates the comment on the first run and updates that same comment on the second", async () => {
    const first = await upsertStickyComment({
      ...target,
      body: "2 of 3 scenarios over budget",
      mode: "upsert",
    });
    expect(first.action).toBe("created");
    expect(comments()).toHaveLength(1);
    const created = comments()[0]!;
    expect(first.id).toBe(created.id);
    expect(first.url).toBe(created.html_url);
    expect(created.body).toBe(`${stickyMarker("bench")}\n2 of 3 scenarios over budget`);
    expect(github.requests.find((r) => r.method === "POST")).toMatchObject({
      path: `/repos/${owner}/${repo}/issues/${issueNumber}/comments`,
      authorization: "token ghs_test_token",
    });

    const second = await upsertStickyComment({
      ...target,
      body: "All 3 scenarios within budget",
      mode: "upsert",
    });
    expect(second).toMatchObject({ action: "updated", id: created.id, url: created.html_url });
    expect(comments()).toHaveLength(1);
    expect(comments()[0]!.body).toBe(`${stickyMarker("bench")}\nAll 3 scenarios within budget`);
    expect(writes().map((r) => `${r.method} ${r.path}`)).toEqual([
      `POST /repos/${owner}/${repo}/issues/${issueNumber}/comments`,
      `PATCH /repos/${owner}/${repo}/issues/comments/${created.id}`,
    ]);
  });

  it("does not PATCH when the body is unchanged", async () => {
    await upsertStickyComment({ ...target, body: "same", mode: "upsert" });
    const again = await upsertStickyComment({ ...target, body: "same", mode: "upsert" });
    expect(again.action).toBe("unchanged");
    expect(again.id).toBe(comments()[0]!.id);
    expect(writes().map((r) => r.method)).toEqual(["POST"]);
  });

  it("keeps one comment per key, so matrix legs do not overwrite each other", async () => {
    await upsertStickyComment({ ...target, key: "bench/3.11", body: "python 3.11", mode: "upsert" });
    await upsertStickyComment({ ...target, key: "bench/3.12", body: "python 3.12", mode: "upsert" });
    await upsertStickyComment({ ...target, key: "bench/3.11", body: "python 3.11 again", mode: "upsert" });
    expect(comments().map((c) => c.body)).toEqual([
      `${stickyMarker("bench/3.11")}\npython 3.11 again`,
      `${stickyMarker("bench/3.12")}\npython 3.12`,
    ]);
  });

  it("finds its comment behind 150 earlier comments (pagination through Link headers)", async () => {
    github.addComment({ owner, repo, issue: issueNumber, body: `${stickyMarker("bench")}\nold figures` });
    for (let i = 0; i < 150; i++) {
      github.addComment({ owner, repo, issue: issueNumber, body: `review remark ${i}`, login: "octocat" });
    }
    const result = await upsertStickyComment({ ...target, body: "new figures", mode: "upsert" });
    expect(result.action).toBe("updated");
    expect(comments()).toHaveLength(151);
    expect(comments()[0]!.body).toBe(`${stickyMarker("bench")}\nnew figures`);
    // Two pages of 100; the second request followed the Link header GitHub-style.
    const lists = github.requests.filter((r) => r.method === "GET");
    expect(lists.map((r) => r.query["page"] ?? "1")).toEqual(["1", "2"]);
    expect(lists[1]!.path).toMatch(/^\/repositories\/\d+\/issues\/2\/comments$/);
  });

  it("when several copies exist (earlier bugs, concurrent runs) updates the newest and deletes the others", async () => {
    const marker = stickyMarker("bench");
    const older = github.addComment({ owner, repo, issue: issueNumber, body: `${marker}\nfirst copy` });
    const human = github.addComment({
      owner,
      repo,
      issue: issueNumber,
      body: "a human remark",
      login: "octocat",
    });
    const newer = github.addComment({ owner, repo, issue: issueNumber, body: `${marker}\nsecond copy` });
    const result = await upsertStickyComment({ ...target, body: "current", mode: "upsert" });
    expect(result).toMatchObject({ action: "updated", id: newer.id });
    expect(comments().map((c) => c.id)).toEqual([human.id, newer.id]);
    expect(writes().map((r) => `${r.method} ${r.path}`)).toEqual([
      `PATCH /repos/${owner}/${repo}/issues/comments/${newer.id}`,
      `DELETE /repos/${owner}/${repo}/issues/comments/${older.id}`,
    ]);
  });

  it("a person's comment that copies the marker is neither taken over nor deleted", async () => {
    const marker = stickyMarker("bench");
    const ours = github.addComment({ owner, repo, issue: issueNumber, body: `${marker}\nour figures` });
    const spoof = { owner, repo, issue: issueNumber, body: `${marker}\nspoofed`, login: "mallory" };
    const mallory = github.addComment(spoof);
    const found = await findStickyComment(target);
    expect(found.comment).toMatchObject({ id: ours.id, author: "github-actions[bot]", authorType: "Bot" });
    expect(found.duplicates).toEqual([]);
    await upsertStickyComment({ ...target, body: "new figures", mode: "upsert" });
    expect(comments().map((c) => [c.id, c.body])).toEqual([
      [ours.id, `${marker}\nnew figures`],
      [mallory.id, `${marker}\nspoofed`],
    ]);
  });

  it("ignores quotes of the comment and comments where the marker is not the first line", async () => {
    const marker = stickyMarker("bench");
    github.addComment({ owner, repo, issue: issueNumber, body: `> ${marker}\n> old`, login: "octocat" });
    github.addComment({ owner, repo, issue: issueNumber, body: `see ${marker}`, login: "octocat" });
    const result = await upsertStickyComment({ ...target, body: "figures", mode: "upsert" });
    expect(result.action).toBe("created");
    expect(comments()).toHaveLength(3);
  });

  it("a key trying to inject markup or another marker stays inside one harmless HTML comment", async () => {
    const evil = "x --> <img src=x onerror=alert(1)> @octocat <!-- membudget:bench -->";
    const marker = stickyMarker(evil);
    expect(marker.startsWith("<!-- membudget:")).toBe(true);
    expect(marker.endsWith(" -->")).toBe(true);
    // The only comment delimiters are the marker's own, and no raw markup or mention survives.
    const inner = marker.slice("<!-- ".length, -" -->".length);
    expect(inner).not.toMatch(/[<>@\s]|--/);

    await upsertStickyComment({ ...target, body: "legit", mode: "upsert" });
    const result = await upsertStickyComment({ ...target, key: evil, body: "evil", mode: "upsert" });
    expect(result.action).toBe("created");
    expect(comments().map((c) => c.body)).toEqual([`${stickyMarker("bench")}\nlegit`, `${marker}\nevil`]);
    // And the "bench" comment is still found as the only one for its key.
    expect((await findStickyComment(target)).comment?.body).toBe(`${stickyMarker("bench")}\nlegit`);
  });

  it("distinct keys give distinct markers, whitespace aside", () => {
    expect(stickyMarker("a")).not.toBe(stickyMarker("ab"));
    expect(stickyMarker("a b")).not.toBe(stickyMarker("a_b"));
    expect(stickyMarker(" 3.11 ")).toBe(stickyMarker("3.11"));
    const long = "k".repeat(500);
    expect(stickyMarker(long).length).toBeLessThan(140);
    expect(stickyMarker(long)).not.toBe(stickyMarker(`${long}x`));
  });

  it("a 403 on create (fork pull request) is skipped with a warning naming the permission and the workaround", async () => {
    github.denyWrites();
    const result = await upsertStickyComment({ ...target, body: "figures", mode: "upsert" });
    expect(result.action).toBe("skipped");
    expect(result.warning).toContain("403");
    expect(result.warning).toContain("pull-requests: write");
    expect(result.warning).toContain("workflow_run");
    expect(comments()).toHaveLength(0);
  });

  it("a 403 on update is skipped too", async () => {
    await upsertStickyComment({ ...target, body: "v1", mode: "upsert" });
    github.denyWrites();
    const result = await upsertStickyComment({ ...target, body: "v2", mode: "upsert" });
    expect(result.action).toBe("skipped");
    expect(comments()[0]!.body).toContain("v1");
  });

  it("a comment deleted between listing and updating (404 on PATCH) is posted afresh", async () => {
    await upsertStickyComment({ ...target, body: "v1", mode: "upsert" });
    github.fail({ status: 404, methods: ["PATCH"], times: 1 });
    const result = await upsertStickyComment({ ...target, body: "v2", mode: "upsert" });
    expect(result.action).toBe("created");
    expect(writes().map((r) => r.method)).toEqual(["POST", "PATCH", "POST"]);
  });

  it("a 500 throws an error that says what failed", async () => {
    github.fail({ status: 500, methods: ["POST"] });
    await expect(upsertStickyComment({ ...target, body: "figures", mode: "upsert" })).rejects.toThrow(
      /could not create a comment on Codertocat\/Hello-World#2: GitHub answered 500/,
    );
  });

  it("an unreachable API throws with the URL it tried", async () => {
    const url = github.url;
    await github.close();
    github = await startFakeGitHub();
    await expect(upsertStickyComment({ ...target, apiUrl: url, body: "x", mode: "upsert" })).rejects.toThrow(
      new RegExp(`could not reach GitHub at ${url}`),
    );
  });

  it("an empty token is skipped with a warning, without any request", async () => {
    const result = await upsertStickyComment({ ...target, token: "", body: "x", mode: "upsert" });
    expect(result.action).toBe("skipped");
    expect(result.warning).toContain("github-token");
    expect(github.requests).toHaveLength(0);
  });

  it("update mode updates an existing comment but never creates one", async () => {
    const none = await upsertStickyComment({ ...target, body: "All within budget", mode: "update" });
    expect(none.action).toBe("unchanged");
    expect(comments()).toHaveLength(0);
    await upsertStickyComment({ ...target, body: "1 over budget", mode: "upsert" });
    const updated = await upsertStickyComment({ ...target, body: "Now passing", mode: "update" });
    expect(updated.action).toBe("updated");
    expect(comments().map((c) => c.body)).toEqual([`${stickyMarker("bench")}\nNow passing`]);
  });

  it("delete mode removes the comment, and is a no-op when there is none", async () => {
    await upsertStickyComment({ ...target, body: "figures", mode: "upsert" });
    await upsertStickyComment({ ...target, key: "other", body: "other", mode: "upsert" });
    const deleted = await upsertStickyComment({ ...target, body: "", mode: "delete" });
    expect(deleted.action).toBe("deleted");
    expect(comments().map((c) => c.body)).toEqual([`${stickyMarker("other")}\nother`]);
    const again = await upsertStickyComment({ ...target, body: "", mode: "delete" });
    expect(again.action).toBe("unchanged");
  });

  it("delete mode with a read-only token is skipped", async () => {
    await upsertStickyComment({ ...target, body: "figures", mode: "upsert" });
    github.denyWrites();
    const result = await upsertStickyComment({ ...target, body: "", mode: "delete" });
    expect(result.action).toBe("skipped");
    expect(comments()).toHaveLength(1);
  });

  it("a body over GitHub's limit is cut at a line end and flagged", async () => {
    const body = Array.from({ length: 5000 }, (_, i) => `| row ${i} | ${"x".repeat(20)} |`).join("\n");
    const result = await upsertStickyComment({ ...target, body, mode: "upsert" });
    expect(result.action).toBe("created");
    expect(result.warning).toContain("truncated");
    const posted = comments()[0]!.body;
    expect(posted.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(posted).toMatch(/\|\n\n… \(truncated/);
  });
});
