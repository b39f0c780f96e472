import type { Language, Topic } from '../scenario/schema';

/**
 * The words of the offline engine, per language. Each topic has a label and the approach a vendor describes
 * when it works the topic out in full; the engine fills them with the client's own asks.
 */
export interface TopicText {
  label: string;
  approach: string;
  risk: string;
}

type Phrasebook = Record<Topic, TopicText>;

const zh: Phrasebook = {
  performance: {
    label: '性能',
    approach: '按链路分解延迟预算，配合多级缓存与压测基线，并给出峰值下的降级与熔断方案',
    risk: '峰值流量下延迟超标',
  },
  scalability: {
    label: '扩展性',
    approach: '服务无状态化并按分片水平扩展，容量按峰值的1.5倍规划，扩容演练纳入验收',
    risk: '容量规划不足导致扩容滞后',
  },
  security: {
    label: '安全',
    approach: '传输与存储全程加密，统一身份认证与密钥轮换，上线前完成渗透测试与审计日志接入',
    risk: '认证与密钥管理存在薄弱环节',
  },
  compliance: {
    label: '合规',
    approach: '逐条对照法规要求建立合规矩阵，数据最小化存储，删除与审计流程可追溯',
    risk: '合规要求理解偏差导致返工',
  },
  cost: {
    label: '成本',
    approach: '按规模给出分档资源清单与三年总拥有成本（TCO）测算，并列出降本措施',
    risk: '云资源成本超出预算',
  },
  business_value: {
    label: '商业价值',
    approach: '以可量化指标建立ROI模型，约定基线、目标值与A/B验证方法',
    risk: '业务收益无法量化验证',
  },
  schedule: { label: '进度', approach: '按里程碑倒排计划，关键路径预留缓冲，每两周对齐一次进度', risk: '关键路径延期' },
  disaster_recovery: {
    label: '灾备',
    approach: '跨可用区主备部署，明确RTO/RPO目标，并制定年度切换演练方案',
    risk: '故障切换未经演练',
  },
  observability: {
    label: '可观测性',
    approach: '统一Metrics、Logging与Tracing，关键指标配置告警与值班响应流程',
    risk: '故障定位缓慢',
  },
  user_experience: {
    label: '用户体验',
    approach: '为各角色提供可交互原型，经关键用户评审后再进入开发',
    risk: '界面与实际工作流不匹配',
  },
  machine_learning: {
    label: '算法模型',
    approach: '离线训练与在线推理分离，模型与特征统一版本管理，支持灰度与一键回滚',
    risk: '模型效果不及预期',
  },
  data: {
    label: '数据',
    approach: '分层存储冷热数据，明确保留周期、分片策略与幂等写入机制',
    risk: '数据一致性与存储膨胀',
  },
  integration: {
    label: '系统集成',
    approach: '以版本化API对接现有系统，提供联调环境与契约测试',
    risk: '与现有系统对接受阻',
  },
  access_control: {
    label: '权限管理',
    approach: '基于角色的访问控制，给出角色—权限矩阵并接入操作审计',
    risk: '权限边界不清导致越权',
  },
};

const en: Phrasebook = {
  performance: {
    label: 'Performance',
    approach: 'a latency budget per hop, layered caches, load-test baselines, and degradation paths at peak',
    risk: 'latency above target at peak load',
  },
  scalability: {
    label: 'Scalability',
    approach: 'stateless services sharded horizontally, capacity planned at 1.5x peak, scale-out drills in acceptance',
    risk: 'capacity planned too tight',
  },
  security: {
    label: 'Security',
    approach: 'encryption in transit and at rest, central identity with key rotation, a penetration test before launch',
    risk: 'weak points in authentication or key handling',
  },
  compliance: {
    label: 'Compliance',
    approach: 'a compliance matrix against each regulation, data minimisation, traceable deletion and audit',
    risk: 'rework from a misread regulation',
  },
  cost: {
    label: 'Cost',
    approach: 'resource bills per scale tier and a three-year total cost of ownership, with savings levers',
    risk: 'cloud spend above budget',
  },
  business_value: {
    label: 'Business value',
    approach: 'an ROI model on measurable metrics with baseline, target and an A/B method to verify it',
    risk: 'benefits that cannot be verified',
  },
  schedule: {
    label: 'Schedule',
    approach: 'a plan worked back from milestones with buffer on the critical path and fortnightly check-ins',
    risk: 'slippage on the critical path',
  },
  disaster_recovery: {
    label: 'Disaster recovery',
    approach: 'active-passive across zones, stated RTO/RPO targets and a yearly failover drill',
    risk: 'an untested failover',
  },
  observability: {
    label: 'Observability',
    approach: 'unified metrics, logs and traces with alerts on key indicators and an on-call routine',
    risk: 'slow diagnosis of incidents',
  },
  user_experience: {
    label: 'User experience',
    approach: 'clickable prototypes for every role, reviewed by key users before development starts',
    risk: 'screens that do not fit the real workflow',
  },
  machine_learning: {
    label: 'Models',
    approach: 'offline training apart from online inference, versioned models and features, canary and rollback',
    risk: 'model quality below expectations',
  },
  data: {
    label: 'Data',
    approach: 'hot and cold tiers with retention periods, a sharding plan and idempotent writes',
    risk: 'inconsistent or ballooning data',
  },
  integration: {
    label: 'Integration',
    approach: 'versioned APIs to the existing systems, a shared test environment and contract tests',
    risk: 'blocked integration with existing systems',
  },
  access_control: {
    label: 'Access control',
    approach: 'role-based access with a role-permission matrix and audited operations',
    risk: 'unclear permission boundaries',
  },
};

export const phrasebooks: Record<Language, Phrasebook> = { zh, en };

/** How the engine quotes a client's ask, so the other side can find it again in the text. */
export const quotes: Record<Language, [string, string]> = { zh: ['「', '」'], en: ['“', '”'] };

export function quote(language: Language, ask: string): string {
  const [open, close] = quotes[language];
  return `${open}${ask}${close}`;
}

/** How the engine tags a topic in the text, so the other side can tell which topic an ask belongs to. */
export function tag(language: Language, label: string): string {
  return language === 'zh' ? `【${label}】` : `[${label}] `;
}
