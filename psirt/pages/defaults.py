# ruff: noqa: E501 - Chinese paragraphs stay on one line: a line break inside them would show as a space.
"""The texts every fresh installation starts with, in English and Simplified Chinese.

Adapted from what hardware vendors publish today: the disclosure principle and the Security
Lab text of a video-surveillance vendor, the responsible-reporting rules, the response promise and the
publication conditions of a building-automation vendor. Written for any vendor: placeholders such as
`{vendor}` are filled from the organization profile when the page is shown (see `psirt.pages.queries`), so a
lead who only sets the vendor name already has a coherent site.

Leads edit these in the desk; "Restore the default text" copies them back."""

from __future__ import annotations

from typing import NamedTuple


class DefaultPage(NamedTuple):
    title_en: str
    title_zh: str
    body_en: str
    body_zh: str


HOME = DefaultPage(
    title_en="Security Response Center",
    title_zh="安全响应中心",
    body_en="""\
{vendor} insists on the principle of coordinated vulnerability disclosure. After the necessary verification,
{vendor} discloses vulnerability information to the people who need it — our customers, CERT coordination
centres and other stakeholders — to build a secure cyberspace together. Customers affected by a vulnerability
are informed through direct communication or a public security advisory.

Found a security problem in one of our products? Tell us. We respond to every report within {ack_days}
business days and keep you informed until it is resolved.
""",
    body_zh="""\
{vendor}坚持协调漏洞披露原则。经过必要的验证流程后，{vendor}会向客户、CERT 协调组织等相关方披露漏洞信息，共同构建安全的网络空间。受漏洞影响的客户将通过直接沟通或公开的安全公告获得通知。

如果您在我们的产品中发现了安全问题，请告诉我们。我们会在 {ack_days} 个工作日内响应每一份报告，并持续向您通报处理进展，直至问题解决。
""",
)

POLICY = DefaultPage(
    title_en="Disclosure policy",
    title_zh="漏洞披露策略",
    body_en="""\
## Our principle

{vendor} insists on the principle of vulnerability disclosure. After the necessary verification, {vendor}
discloses vulnerability information to stakeholders such as our customers and CERT coordination centres, to
build a secure cyberspace together. {vendor} informs customers affected by a vulnerability through direct
communication or public security advisories.

## Confidentiality

The security team strictly controls the spread of vulnerability information and limits it to the people who
handle the vulnerability. We ask every reporter to keep a vulnerability confidential until it is publicly
disclosed, and to agree the disclosure date with us.

## When we publish a security advisory

{vendor} publishes a security advisory when one or more of the following conditions are met:

1. The security team has rated the vulnerability and completed the vulnerability response process, and a fix
   or mitigation sufficient to help customers eliminate the security risk is available. The advisory is then
   published on the disclosure date agreed with the reporter.
2. The vulnerability is being actively exploited and is likely to increase the security risk to {vendor}
   customers, or it is likely to increase public concern about the security of {vendor} products. {vendor}
   then expedites the release of a security advisory, which may or may not include a full firmware fix or an
   emergency fix.

## Severity

Every advisory gives the CVSS (Common Vulnerability Scoring System) base and temporal (CVSS v4.0: threat)
metrics of the vulnerability. Its severity is the rating of the CVSS v4.0 base + threat score, or, without a
CVSS v4.0 vector, of the CVSS v3.1 temporal score; environmental metrics never change it. Customers can compute
the environmental metrics for their own environment on the advisory page.

## References

{vendor} uses CVE (Common Vulnerabilities and Exposures) identifiers and the Chinese national vulnerability
databases CNVD and CNNVD to reference vulnerabilities, including third-party vulnerabilities in components of
our firmware.
""",
    body_zh="""\
## 我们的原则

{vendor}坚持漏洞披露原则。经过必要的验证流程后，{vendor}会向客户、CERT 协调组织等相关方披露漏洞信息，共同构建安全的网络空间。{vendor}会通过直接沟通或公开安全公告的方式通知受漏洞影响的客户。

## 保密

安全团队严格控制漏洞信息的传播范围，仅限于处理该漏洞的人员知悉。我们要求每一位报告者在漏洞公开披露之前对漏洞信息保密，并与我们协商确定披露日期。

## 何时发布安全公告

满足以下一个或多个条件时，{vendor}将发布安全公告：

1. 安全团队已完成漏洞定级和漏洞响应流程，并且已有修复方案或足以帮助客户消除安全风险的缓解措施。安全公告将在与报告者约定的披露日期发布。
2. 漏洞已被在野利用，可能增加{vendor}客户面临的安全风险；或者漏洞可能引起公众对{vendor}产品安全性的关注。此时{vendor}将加快发布安全公告，公告中可能包含、也可能不包含完整的固件修复或紧急修复。

## 严重程度

每份安全公告都会给出漏洞的 CVSS（通用漏洞评分系统）基础指标和时间指标（CVSS v4.0 中为威胁指标）。公告的严重程度取 CVSS v4.0 基础+威胁评分的等级；没有 CVSS v4.0 向量时，取 CVSS v3.1 时间评分的等级；环境指标从不影响严重程度。客户可以在公告页面上根据自身环境计算环境指标。

## 漏洞编号

{vendor}使用 CVE（通用漏洞披露）编号以及国家信息安全漏洞共享平台（CNVD）和国家信息安全漏洞库（CNNVD）编号来引用漏洞信息，包括我们固件所含第三方组件中的漏洞。
""",
)

PROCESS = DefaultPage(
    title_en="Vulnerability response process",
    title_zh="漏洞响应流程",
    body_en="""\
1. **Receive.** We monitor security problems and receive vulnerability reports. We respond to every report as
   soon as possible, at the latest within {ack_days} business days.
2. **Verify.** The security team works with the product team to analyse and validate the report, confirm the
   vulnerability and evaluate its severity and impact. We may contact you if we need more information.
3. **Remediate.** Once the vulnerability is confirmed, we work out mitigation measures, develop the fix and
   prepare a remediation plan for all affected customers. Remediation usually takes up to {remediation_days}
   days and in some cases longer. You can follow our progress and the completion of the remediation.
4. **Disclose.** We publish a security advisory when precautionary measures and fixes are available, or
   earlier when a vulnerability is actively exploited (see the disclosure policy), and we credit the reporter
   as they wish.

Throughout the process, information about the vulnerability is shared only with the people who handle it.
""",
    body_zh="""\
1. **接收。** 我们持续监测安全问题并接收漏洞报告。我们会尽快响应每一份报告，最迟不超过 {ack_days} 个工作日。
2. **验证。** 安全团队与产品团队一起对报告进行分析和验证，确认漏洞并评估其严重程度和影响范围。如需更多信息，我们可能会与您联系。
3. **修复。** 漏洞确认后，我们会制定缓解措施、开发修复方案，并为所有受影响的客户制定修复计划。修复通常在 {remediation_days} 天内完成，个别情况下可能需要更长时间。您可以随时了解我们的处理进展和修复完成情况。
4. **披露。** 当防范措施和修复补丁就绪时，或当漏洞已被在野利用时（详见漏洞披露策略），我们会提前发布安全公告，并按照报告者的意愿致谢。

在整个流程中，漏洞信息仅在处理该漏洞的人员之间共享。
""",
)

GUIDELINES = DefaultPage(
    title_en="Reporting guidelines",
    title_zh="漏洞报告指南",
    body_en="""\
A security vulnerability is a defect or weakness in the design, deployment, operation or management of a
system that can be exploited to violate the system's security policy.

We strongly encourage organizations and individuals to report any potential security issue in {vendor}
products to our security team, through the report form on this site or by e-mail to <{security_email}>. You
may encrypt your report with our OpenPGP key (see the contact page).

## What to include

To help us verify and locate the vulnerability, please include as much as you can of the following:

1. Organization and contact information
2. Reference information
3. The affected product or solution and its version
4. A description of the potential vulnerability
5. Technical details (such as system configuration, how to locate the problem, a description of the exploit,
   sample capture packets, a proof of concept, steps to reproduce the problem)
6. Information about any public exploit
7. Your vulnerability disclosure plans

## Responsible reporting

1. All parties to a vulnerability disclosure should comply with the laws of their country or region.
2. Reports should be based on the latest released firmware, and preferably written in English or Chinese.
3. Report vulnerabilities through the dedicated channels named on this page. {vendor} may receive reports
   through other channels but does not guarantee that they will be acknowledged.
4. Adhere to data protection principles at all times: do not violate the privacy and data security of
   {vendor}'s users, employees, agents, services or systems while looking for vulnerabilities.
5. Keep in contact and cooperate with us during the disclosure process, and do not disclose information about
   the vulnerability before the disclosure date agreed with us.
6. {vendor} does not currently operate a vulnerability bounty programme.

We respond to every report within {ack_days} business days.
""",
    body_zh="""\
安全漏洞是指系统在设计、部署、运行或管理过程中存在的、可被利用来违反系统安全策略的缺陷或弱点。

我们诚挚地鼓励组织和个人向我们的安全团队报告{vendor}产品中任何潜在的安全问题，您可以使用本站的漏洞报告表单，也可以发送电子邮件至 <{security_email}>。您可以使用我们的 OpenPGP 公钥加密报告内容（见联系我们页面）。

## 报告内容

为便于我们验证和定位漏洞，请尽可能提供以下信息（包括但不限于）：

1. 组织及联系方式
2. 参考信息
3. 受影响的产品或解决方案及其版本
4. 潜在漏洞的描述
5. 技术细节（如系统配置、定位方法、漏洞利用描述、抓包样本、概念验证（PoC）、问题复现步骤等）
6. 公开的漏洞利用信息
7. 您的漏洞披露计划

## 负责任的报告准则

1. 漏洞披露的各方都应遵守其所在国家或地区的法律法规。
2. 漏洞报告应基于最新发布的固件版本，最好使用中文或英文撰写。
3. 请通过本页列出的专用渠道报告漏洞。{vendor}可能会收到来自其他渠道的报告，但不保证对其进行确认。
4. 始终遵守数据保护原则：在发现漏洞的过程中，不得侵犯{vendor}用户、员工、代理商、服务或系统的隐私和数据安全。
5. 在披露过程中与我们保持沟通与合作，在与我们约定的披露日期之前不得披露漏洞相关信息。
6. {vendor}目前尚未设立漏洞奖励计划。

我们会在 {ack_days} 个工作日内响应每一份报告。
""",
)

ACKNOWLEDGMENTS = DefaultPage(
    title_en="Acknowledgments",
    title_zh="致谢",
    body_en="""\
{vendor} thanks the researchers and organizations below, who reported vulnerabilities responsibly and helped
protect our customers.
""",
    body_zh="""\
{vendor}感谢以下研究人员和组织以负责任的方式报告漏洞，帮助我们保护客户的安全。
""",
)

CONTACT = DefaultPage(
    title_en="Security lab and contact",
    title_zh="安全实验室与联系方式",
    body_en="""\
Devices that once ran on closed, local networks are now connected to large networks and to the Internet.
Security has become one of the most important questions for every connected product.

{vendor} considers security throughout product design and development. We are willing to share our
understanding of security architecture and solutions with users and partners, so that together we build
systems that deserve their trust.

Security is systematic work: finding and fixing vulnerabilities is how hidden dangers in a protection system
come to light. {vendor} wants to work with professional security companies and independent researchers to
keep improving the security of its products, and with peers in the industry — on organizational process,
management standards and technical standards — to face the threats together.

Whether you are a user, a security company or a security researcher: if you have suggestions or questions
about the security of our products, or need help, contact the {vendor} Security Lab at <{lab_email}>.
""",
    body_zh="""\
过去依托封闭局域网运行的设备，如今已接入大型网络和互联网。安全已成为每一款联网产品最重要的课题之一。

{vendor}在产品设计和开发的全过程中始终重视安全。我们愿意在第一时间与用户和合作伙伴分享我们对安全体系架构和解决方案的理解，共同构建值得信赖的系统。

安全是一项系统性工作，持续发现并修复漏洞，才能找出安全防护体系中的隐患。{vendor}希望与专业的安全公司和安全研究人员合作，不断提升产品的安全水平；也希望在组织流程、管理规范和技术标准等方面与业界同行携手，共同应对威胁与挑战。

无论您是用户、专业安全公司还是安全研究人员，如果您对我们产品的安全有任何建议、疑问或需要帮助，欢迎通过 <{lab_email}> 联系{vendor}安全实验室。
""",
)

UPDATES = DefaultPage(
    title_en="Software updates",
    title_zh="软件更新",
    body_en="""\
{vendor} delivers updated firmware on a regular basis, including security patches. Several factors may affect
the date on which you actually receive an update, such as the device model, hardware revision and regional or
operator variants. Please install every maintenance release as soon as possible to keep your devices secure
and performing at their best.
""",
    body_zh="""\
{vendor}会定期发布固件更新，其中包括安全补丁。您实际收到更新的时间可能受多种因素影响，例如设备型号、硬件版本以及地区或运营商定制版本等。请尽快安装所有维护版本，以确保设备安全并保持最佳性能。
""",
)

DEFAULT_PAGES: dict[str, DefaultPage] = {
    "home": HOME,
    "policy": POLICY,
    "process": PROCESS,
    "guidelines": GUIDELINES,
    "acknowledgments": ACKNOWLEDGMENTS,
    "contact": CONTACT,
    "updates": UPDATES,
}
