"""Every change to a case, by sub-domain: keyword-only functions, audited in the same transaction.

- `cases`: opening cases, the workflow transition, people, scoring, references, disclosure date, calendar days;
- `workflow`: the states and the only allowed transitions (pure data);
- `deadlines`: per-severity remediation times and deadline reminders;
- `remediation`: affected ranges, mitigations, work items;
- `duplicates`: likely duplicates of an inbox report;
- `messages` and `message_templates`: the conversation with the reporters.

Views, the API and the CLI import the module that defines a name; this package exports nothing itself.
"""
