/**
 * The Block Kit limits that Slack enforces on messages, for the block types Firebreak sends. A message that
 * breaks one gets `invalid_blocks` from the stand-in, as it would from Slack.
 */

const limits = {
  blocks: 50,
  blockId: 255,
  actionId: 255,
  headerText: 150,
  sectionText: 3000,
  sectionFields: 10,
  sectionField: 2000,
  contextElements: 10,
  contextText: 2000,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  buttonUrl: 3000,
};

type Check = string | undefined;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkText(value: unknown, where: string, maxLength: number, plainOnly = false): Check {
  if (!isRecord(value) || typeof value.text !== 'string') {
    return `${where} must be a text object`;
  }
  if (value.type !== 'plain_text' && (plainOnly || value.type !== 'mrkdwn')) {
    return `${where} has text type ${String(value.type)}`;
  }
  if (value.text.length === 0 || value.text.length > maxLength) {
    return `${where} must be 1-${maxLength} characters, got ${value.text.length}`;
  }
  return undefined;
}

function checkButton(element: Record<string, unknown>, where: string, actionIds: Set<string>): Check {
  const actionId = element.action_id;
  if (typeof actionId !== 'string' || actionId.length > limits.actionId || actionIds.has(actionId)) {
    return `${where}.action_id must be unique and at most ${limits.actionId} characters`;
  }
  actionIds.add(actionId);
  if (typeof element.value === 'string' && element.value.length > limits.buttonValue) {
    return `${where}.value is longer than ${limits.buttonValue} characters`;
  }
  if (typeof element.url === 'string' && element.url.length > limits.buttonUrl) {
    return `${where}.url is longer than ${limits.buttonUrl} characters`;
  }
  return checkText(element.text, `${where}.text`, limits.buttonText, true);
}

function checkSection(block: Record<string, unknown>, where: string): Check {
  if (block.text === undefined && block.fields === undefined) {
    return `${where} needs text or fields`;
  }
  if (block.text !== undefined) {
    const problem = checkText(block.text, `${where}.text`, limits.sectionText);
    if (problem !== undefined) {
      return problem;
    }
  }
  if (block.fields === undefined) {
    return undefined;
  }
  if (!Array.isArray(block.fields) || block.fields.length > limits.sectionFields) {
    return `${where}.fields must be an array of at most ${limits.sectionFields}`;
  }
  return block.fields.map((field, i) => checkText(field, `${where}.fields[${i}]`, limits.sectionField)).find(Boolean);
}

function checkBlock(block: unknown, where: string, actionIds: Set<string>): Check {
  if (!isRecord(block)) {
    return `${where} must be an object`;
  }
  if (typeof block.block_id === 'string' && block.block_id.length > limits.blockId) {
    return `${where}.block_id is longer than ${limits.blockId} characters`;
  }
  switch (block.type) {
    case 'header':
      return checkText(block.text, `${where}.text`, limits.headerText, true);
    case 'section':
      return checkSection(block, where);
    case 'divider':
      return undefined;
    case 'context':
      if (!Array.isArray(block.elements) || block.elements.length > limits.contextElements) {
        return `${where}.elements must be an array of at most ${limits.contextElements}`;
      }
      return block.elements.map((e, i) => checkText(e, `${where}.elements[${i}]`, limits.contextText)).find(Boolean);
    case 'actions':
      if (!Array.isArray(block.elements) || block.elements.length > limits.actionsElements) {
        return `${where}.elements must be an array of at most ${limits.actionsElements}`;
      }
      return block.elements
        .map((e, i) => (isRecord(e) ? checkButton(e, `${where}.elements[${i}]`, actionIds) : `${where} element`))
        .find(Boolean);
    default:
      return `${where} has unsupported type ${String(block.type)}`;
  }
}

/** Returns what is wrong with a message's blocks, or undefined when Slack would accept them. */
export function checkBlocks(blocks: unknown): Check {
  if (!Array.isArray(blocks)) {
    return 'blocks must be a JSON array';
  }
  if (blocks.length > limits.blocks) {
    return `no more than ${limits.blocks} blocks allowed`;
  }
  const actionIds = new Set<string>();
  const blockIds = new Set<string>();
  for (const [i, block] of blocks.entries()) {
    const problem = checkBlock(block, `blocks[${i}]`, actionIds);
    if (problem !== undefined) {
      return problem;
    }
    const blockId = isRecord(block) ? block.block_id : undefined;
    if (typeof blockId === 'string') {
      if (blockIds.has(blockId)) {
        return `blocks[${i}].block_id ${blockId} is not unique`;
      }
      blockIds.add(blockId);
    }
  }
  return undefined;
}
