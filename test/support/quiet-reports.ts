/**
 * aws-cdk-lib prints the warnings of each synthesis as a validation report on
 * stderr. The tests assert the warnings they mean (Annotations); the reports would
 * only bury the test results, so they are dropped. Anything else still prints.
 */
const print = console.error.bind(console);
console.error = (...args: unknown[]) => {
  if (/A copy of this report can be found in|Acknowledge with 'Annotation::/.test(String(args[0]))) return;
  print(...args);
};
