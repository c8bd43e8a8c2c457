// Fails when the client's own code forces a type: an `as` cast, a `<T>value` assertion, a
// non-null assertion `value!`, `any`, or a @ts-ignore/@ts-expect-error.
// Walks TypeScript's own syntax tree, so words in strings and comments do not count.
import { readdirSync, readFileSync } from "node:fs";
import ts from "typescript";

const forcing = new Map([
  [ts.SyntaxKind.AsExpression, "an `as` cast"],
  [ts.SyntaxKind.TypeAssertionExpression, "a <T> type assertion"],
  [ts.SyntaxKind.NonNullExpression, "a non-null assertion (!)"],
  [ts.SyntaxKind.AnyKeyword, "`any`"],
]);

let found = 0;
const files = readdirSync("src").filter((name) => name.endsWith(".ts") && !name.endsWith(".d.ts"));
for (const name of files) {
  const path = `src/${name}`;
  const text = readFileSync(path, "utf8");
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    const what = forcing.get(node.kind);
    if (what !== undefined) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart());
      console.error(`${path}:${line + 1}: ${what}: ${node.getText()}`);
      found += 1;
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  for (const [index, line] of text.split("\n").entries()) {
    if (/@ts-(ignore|expect-error|nocheck)/.test(line)) {
      console.error(`${path}:${index + 1}: a silenced type error`);
      found += 1;
    }
  }
}
if (found > 0) {
  console.error(`${found} forced type(s): the document should make them exact`);
  process.exit(1);
}
console.log(`no casts, no any, no non-null assertions in ${files.length} file(s)`);
